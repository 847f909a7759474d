// Wrapper module: builds the OP Stack's Go programs (op-node, op-batcher, op-conductor, op-geth's geth)
// from the Go module proxy at a pinned release. No upstream source is kept in this repository; only this
// file, go.sum and tools.go (which names the packages so that `go mod tidy` keeps their dependencies).
// The replace and exclude lines are copied from the optimism release's own go.mod: a dependency's replace
// and exclude directives do not apply to the module that requires it.
module opseq.local/peers

go 1.24.0

require github.com/ethereum-optimism/optimism v1.19.0

require github.com/ethereum/go-ethereum v1.17.0 // indirect

replace github.com/ethereum/go-ethereum => github.com/ethereum-optimism/op-geth v1.101702.3-rc.2

exclude (
	github.com/kataras/iris/v12 v12.2.0-beta5
	github.com/kataras/iris/v12 v12.2.0
	github.com/kataras/iris/v12 v12.2.11
)
