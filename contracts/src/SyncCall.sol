// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice An initiating message's identifier (OP interop `ICrossL2Inbox.Identifier`).
struct Identifier {
    address origin;
    uint256 blockNumber;
    uint256 logIndex;
    uint256 timestamp;
    uint256 chainId;
}

/// @notice A call's result as the sequencer hands it over (`provide`): where the destination's
///         `RelayedMessage` is, or (`success == false`) the callee's revert data, an abort hint.
struct Witness {
    bool set;
    bool success;
    Identifier id;
    bytes returnData;
}

interface IL2ToL2CrossDomainMessenger {
    function messageNonce() external view returns (uint256);
    function sendMessage(uint256 destination, address target, bytes calldata message) external returns (bytes32);
}

interface ICrossL2Inbox {
    function validateMessage(Identifier calldata id, bytes32 msgHash) external;
}

/// @title SyncCall
/// @notice The mechanism `SyncCaller` and `SyncAccount` share (op-sequencer, issue 17;
///         `../shared/reference/sync-calls.md` §2.3): send the call through the
///         L2ToL2CrossDomainMessenger as the calling contract, then, in the same transaction,
///         check the destination's `RelayedMessage` of it (its return-data hash) through the
///         CrossL2Inbox and return the return data. The log graph is SentMessage (here) → relay
///         (there) → RelayedMessage (there) → ExecutingMessage (here): acyclic, and each side's
///         block is invalid without the other's.
library SyncCall {
    address internal constant MESSENGER = 0x4200000000000000000000000000000000000023;
    address internal constant INBOX = 0x4200000000000000000000000000000000000022;
    /// @dev `RelayedMessage(uint256 indexed source, uint256 indexed messageNonce,
    ///      bytes32 indexed messageHash, bytes32 returnDataHash)`.
    bytes32 internal constant RELAYED_MESSAGE = 0xc270d73e26d2d39dee7ef92093555927e344e243415547ecc350b2b5385b68a2;

    /// @notice No result was provided for the message just sent (by `store`, which keeps the
    ///         results): the sequencer runs the calling transaction without one to learn the
    ///         message (discovery).
    error MissingWitness(address store, uint256 nonce, uint256 destination, address target, bytes data);
    /// @notice The provided identifier is not a same-timestamp log of the messenger on `destination`.
    error InvalidWitness();

    /// @notice Calls `target` with `data` on `destination` as this contract; the result comes from
    ///         `witnesses` (by messenger nonce) and is checked against the destination's log. A
    ///         failed call reverts with the callee's revert data.
    function send(mapping(uint256 => Witness) storage witnesses, uint256 destination, address target, bytes calldata data)
        internal
        returns (bytes memory ret)
    {
        IL2ToL2CrossDomainMessenger messenger = IL2ToL2CrossDomainMessenger(MESSENGER);
        uint256 nonce = messenger.messageNonce();
        bytes32 messageHash = messenger.sendMessage(destination, target, data);
        Witness memory w = witnesses[nonce];
        if (!w.set) revert MissingWitness(address(this), nonce, destination, target, data);
        delete witnesses[nonce];
        ret = w.returnData;
        if (!w.success) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        if (w.id.origin != MESSENGER || w.id.chainId != destination || w.id.timestamp != block.timestamp) {
            revert InvalidWitness();
        }
        bytes32 payloadHash = keccak256(
            abi.encodePacked(RELAYED_MESSAGE, bytes32(block.chainid), bytes32(nonce), messageHash, keccak256(ret))
        );
        ICrossL2Inbox(INBOX).validateMessage(w.id, payloadHash);
    }
}
