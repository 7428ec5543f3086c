// The V8 heap bounds the shipper runs with, wherever it is started: `npm run shipper` (package.json)
// and the systemd unit (ops/systemd/proxy-access-log-shipper.service) carry the same words, which
// test/ops/systemd.test.ts holds to this list; `npm start`'s supervisor, the benchmarks and the
// tests' shipper processes import it. Without them V8 sizes its heap for the machine's memory, and the garbage of batches
// already sent (promoted to the old generation while their bulk was out) piles up to some 300 MiB
// before it is collected. What stays live is bounded by the batch settings: `batch.max_in_flight`
// + 2 batches of at most `batch.max_bytes` each, some 40 MiB with the defaults, besides some 27 MiB
// of loaded code: the live heap peaks near 62 MiB, so a 64 MiB cap runs out of heap and 80 leaves
// room.
export const SHIPPER_NODE_FLAGS = ['--max-old-space-size=80', '--max-semi-space-size=4'] as const;
