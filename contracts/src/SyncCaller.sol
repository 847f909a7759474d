// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Identifier, SyncCall, Witness} from "./SyncCall.sol";

/// @title SyncCaller
/// @notice Synchronous cross-chain calls on OP interop as it is (op-sequencer, issue 17): any
///         contract or account calls `call(destination, target, data)` and gets the callee's
///         return data back in the same transaction (`SyncCall.send`). The sequencer relays the
///         message on the destination at the same timestamp and hands the result to this
///         contract before the calling transaction runs (`provide`); a failed call on the
///         destination comes as an abort hint (`success == false`, not authenticated: the
///         destination emitted nothing), on which `call` reverts with the destination's revert
///         data. The callee sees this contract as the messenger's sender.
contract SyncCaller {
    /// @notice Who may provide results: the sequencer's relayer (set in the genesis, slot 0).
    address public relayer;
    /// @dev Results by the messenger nonce of the message they answer.
    mapping(uint256 => Witness) internal witnesses;

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
        return SyncCall.send(witnesses, destination, target, data);
    }
}
