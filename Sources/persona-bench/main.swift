// persona-bench: measures persona-shim against the fixture alone and behind a byte-copy relay.
//
// `swift run -c release persona-bench` (see `--help`). Reports medians over interleaved rounds, ratios against the
// relay and the performance bars; `--smoke` proves everything runs without judging speed.

import Platform

exit(Bench.main(CommandLine.arguments))
