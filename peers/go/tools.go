//go:build tools

// Package peers names the OP Stack programs the tests run, so the module graph keeps them.
package peers

import (
	_ "github.com/ethereum-optimism/optimism/op-batcher/cmd"
	_ "github.com/ethereum-optimism/optimism/op-conductor/cmd"
	_ "github.com/ethereum-optimism/optimism/op-node/cmd"
	_ "github.com/ethereum-optimism/optimism/op-supernode/cmd"
	_ "github.com/ethereum/go-ethereum/cmd/geth"
)
