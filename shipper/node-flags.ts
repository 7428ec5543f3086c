// The V8 heap bounds the shipper runs with, wherever it is started: `npm run shipper` (package.json)
// and the systemd unit (ops/systemd/proxy-access-log-shipper.service) carry the same words, which
// test/ops/systemd.test.ts holds to this list; `npm start`'s supervisor, the benchmarks and the
// tests' shipper processes import it. Without them V8 sizes its heap for the machine's memory, and
// the garbage of batches already sent (promoted to the old generation while their bulk was out)
// piles up to some 300 MiB before it is collected. What stays live is bounded by the batch
// settings (`batch.max_in_flight` + 2 batches of at most `batch.max_bytes`, some 40 MiB with the
// defaults), the geo memo (up to 50,000 addresses) and some 27 MiB of loaded code. Measured on a
// 1,000,000-line backlog: an 80 MiB old space ran out of heap part-way (the memo full beside the
// batches), and a 4 MiB semi-space, which copies the batch being filled at every scavenge, doubled
// the CPU per line (81 against 34-37 µs); 160 and 8 took the backlog at 23,900 lines/s.
export const SHIPPER_NODE_FLAGS = ['--max-old-space-size=160', '--max-semi-space-size=8'] as const;
