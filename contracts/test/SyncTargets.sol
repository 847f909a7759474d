// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Identifier, ICrossL2Inbox} from "../src/SyncCall.sol";

/// @notice A counter on chain B that chain A increments synchronously (sync_calls.rs).
contract Counter {
    uint256 public count;

    error TooBig(uint256 by);

    function add(uint256 by) external returns (uint256) {
        if (by > 100) revert TooBig(by);
        count += by;
        return count;
    }
}

/// @notice A token with balances set by its deployer (sync_calls.rs reads one from another chain).
contract Token {
    mapping(address => uint256) public balanceOf;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }
}

interface ISyncCaller {
    function call(uint256 destination, address target, bytes calldata data) external returns (bytes memory);
}

/// @notice A contract on chain A that calls B's counter and accepts only results below `limit`:
///         a rejected result reverts the calling transaction after the remote call succeeded.
contract Picky {
    ISyncCaller public immutable caller;

    error Rejected(uint256 count);
    event Accepted(uint256 count);

    constructor(ISyncCaller c) {
        caller = c;
    }

    function addAndCheck(uint256 destination, address counter, uint256 by, uint256 limit) external returns (uint256) {
        bytes memory ret = caller.call(destination, counter, abi.encodeWithSignature("add(uint256)", by));
        uint256 count = abi.decode(ret, (uint256));
        if (count >= limit) revert Rejected(count);
        emit Accepted(count);
        return count;
    }
}

/// @notice Executes a message, then emits a log of its own: two of these on two chains whose
///         messages name each other's `Ping` make the log graph cyclic (sync_calls.rs).
contract Emitter {
    event Ping(bytes32 tag);

    function ping(Identifier calldata id, bytes32 msgHash, bytes32 tag) external {
        ICrossL2Inbox(0x4200000000000000000000000000000000000022).validateMessage(id, msgHash);
        emit Ping(tag);
    }
}

/// @notice A contract on chain B that calls onwards through B's SyncCaller (A→B→C), and returns
///         what it got.
contract Bouncer {
    function bounce(uint256 destination, address target, bytes calldata data) external returns (bytes memory) {
        return ISyncCaller(0x5c00000000000000000000000000000000000001).call(destination, target, data);
    }
}

interface ICrossDomainContext {
    function crossDomainMessageContext() external view returns (address sender, uint256 source);
}

/// @notice Records who called it through the messenger: the caller a relayed call carries.
contract WhoCalls {
    address public lastSender;
    uint256 public lastSource;

    function who() external returns (address) {
        (address sender, uint256 source) =
            ICrossDomainContext(0x4200000000000000000000000000000000000023).crossDomainMessageContext();
        lastSender = sender;
        lastSource = source;
        return sender;
    }
}
