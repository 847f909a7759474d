// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Identifier, SyncCall, Witness} from "./SyncCall.sol";

/// @title SyncAccount
/// @notice The EIP-7702 delegate of a user who makes synchronous cross-chain calls with one
///         signature (op-sequencer, issue 17; `../shared/reference/sync-calls.md` §2.3 (b)): the
///         user signs an intent (destination, target, data, nonce, deadline) off-chain; the
///         sequencer sends the transaction (to the user's own address, which runs this code) and
///         pays its gas. The messenger's sender is the user's address, so the callee on the
///         destination sees the user as `crossDomainMessageSender()`. Results are handed over as
///         to `SyncCaller` (`provide`, by the sequencer's relayer, before the calling tx) and
///         checked the same way. State lives at an ERC-7201 style location of the account, away
///         from other delegates' slot 0.
///         Location: keccak256(abi.encode(uint256(keccak256("opseq.sync-account")) - 1)) & ~0xff.
contract SyncAccount layout at 0x0fa93f78772189ddbde7f57641ef11892fc779958d9b9731b4ef8084bdb10f00 {
    /// @dev keccak256("opseq sync-call relayer") as a key: the sequencer's relayer.
    address internal constant RELAYER = 0x09f8bC4b41795Abb42210e7671e34CA2c5850aC1;

    /// @notice The next intent nonce: an intent is good once.
    uint256 public intentNonce;
    mapping(uint256 => Witness) internal witnesses;

    error NotRelayer();
    /// @notice The intent's deadline passed.
    error Expired(uint256 deadline);
    /// @notice Not signed by this account (or not for this nonce, chain or account).
    error BadSignature();

    /// @notice The digest a user signs (EIP-191 personal message of it) for an intent.
    function intentDigest(uint256 destination, address target, bytes calldata data, uint256 nonce, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), destination, target, keccak256(data), nonce, deadline));
    }

    function provide(uint256 nonce, Identifier calldata id, bool success, bytes calldata returnData) external {
        if (msg.sender != RELAYER) revert NotRelayer();
        witnesses[nonce] = Witness({set: true, success: success, id: id, returnData: returnData});
    }

    function clear(uint256 nonce) external {
        if (msg.sender != RELAYER) revert NotRelayer();
        delete witnesses[nonce];
    }

    /// @notice Runs the user's signed intent: calls `target` with `data` on `destination` as this
    ///         account and returns what it returned.
    function execute(uint256 destination, address target, bytes calldata data, uint256 deadline, bytes calldata signature)
        external
        returns (bytes memory)
    {
        if (block.timestamp > deadline) revert Expired(deadline);
        bytes32 digest = intentDigest(destination, target, data, intentNonce, deadline);
        if (_recover(keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", digest)), signature) != address(this)) {
            revert BadSignature();
        }
        intentNonce++;
        return SyncCall.send(witnesses, destination, target, data);
    }

    function _recover(bytes32 hash, bytes calldata sig) internal pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v < 27) v += 27;
        // EIP-2: the lower half of s only.
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) return address(0);
        return ecrecover(hash, v, r, s);
    }
}
