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

interface IL2ToL2CrossDomainMessenger {
    function messageNonce() external view returns (uint256);
    function sendMessage(uint256 destination, address target, bytes calldata message) external returns (bytes32);
}

interface ICrossL2Inbox {
    function validateMessage(Identifier calldata id, bytes32 msgHash) external;
}

/// @title SyncCaller
/// @notice Synchronous cross-chain calls on OP interop as it is (op-sequencer, issue 17;
///         `../shared/reference/sync-calls.md` §2.3): `call` sends a message to `destination`
///         through the L2ToL2CrossDomainMessenger, and, in the same transaction, checks the
///         destination's `RelayedMessage` of that message (its return-data hash) through the
///         CrossL2Inbox and returns the return data. The sequencer relays the message on the
///         destination at the same timestamp and hands the result to this contract before the
///         calling transaction runs (`provide`): the log graph is SentMessage (here) → relay (there)
///         → RelayedMessage (there) → ExecutingMessage (here), acyclic, and each side's block is
///         invalid without the other's. A failed call on the destination comes as an abort hint
///         (`success == false`, not authenticated: the destination emitted nothing), on which
///         `call` reverts with the destination's revert data.
contract SyncCaller {
    address internal constant MESSENGER = 0x4200000000000000000000000000000000000023;
    address internal constant INBOX = 0x4200000000000000000000000000000000000022;
    /// @dev `RelayedMessage(uint256 indexed source, uint256 indexed messageNonce,
    ///      bytes32 indexed messageHash, bytes32 returnDataHash)`.
    bytes32 internal constant RELAYED_MESSAGE = 0xc270d73e26d2d39dee7ef92093555927e344e243415547ecc350b2b5385b68a2;

    struct Witness {
        bool set;
        bool success;
        Identifier id;
        bytes returnData;
    }

    /// @notice Who may provide results: the sequencer's relayer (set in the genesis, slot 0).
    address public relayer;
    /// @dev Results by the messenger nonce of the message they answer.
    mapping(uint256 => Witness) internal witnesses;

    /// @notice No result was provided for the message `call` just sent (by `store`, which keeps the
    ///         results): the sequencer runs the calling transaction without one to learn the
    ///         message (discovery).
    error MissingWitness(address store, uint256 nonce, uint256 destination, address target, bytes data);
    /// @notice The provided identifier is not a same-timestamp log of the messenger on `destination`.
    error InvalidWitness();
    /// @notice Only the relayer provides results.
    error NotRelayer();

    /// @notice The result of the message with messenger nonce `nonce`, for the `call` that sends it.
    function provide(uint256 nonce, Identifier calldata id, bool success, bytes calldata returnData) external {
        if (msg.sender != relayer) revert NotRelayer();
        witnesses[nonce] = Witness({set: true, success: success, id: id, returnData: returnData});
    }

    /// @notice Forgets the result for `nonce`: a calling transaction that reverted left it (its
    ///         message was never sent, so the next call gets the same nonce).
    function clear(uint256 nonce) external {
        if (msg.sender != relayer) revert NotRelayer();
        delete witnesses[nonce];
    }

    /// @notice Calls `target` with `data` on chain `destination` and returns what it returned.
    function call(uint256 destination, address target, bytes calldata data) external returns (bytes memory) {
        IL2ToL2CrossDomainMessenger messenger = IL2ToL2CrossDomainMessenger(MESSENGER);
        uint256 nonce = messenger.messageNonce();
        bytes32 messageHash = messenger.sendMessage(destination, target, data);
        Witness memory w = witnesses[nonce];
        if (!w.set) revert MissingWitness(address(this), nonce, destination, target, data);
        delete witnesses[nonce];
        bytes memory ret = w.returnData;
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
        return ret;
    }
}
