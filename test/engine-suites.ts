// The suites written for both engines, each on whichever engine the test cluster is (TEST_ENGINE):
// the storage seam's, the shipper's exactly-once, crash, rotation, dead-letter and bulk suites, the
// API's oracle, cursor, stats and export suites, the end-to-end pipeline, and `npm start` with
// demo traffic. `npm test` runs every suite on Elasticsearch, then these on OpenSearch; `npm run test:opensearch` runs these alone.

export const BOTH_ENGINES_SUITES = [
  'test/storage/*.test.ts',
  'test/shipper/bulk.test.ts',
  'test/shipper/crash.test.ts',
  'test/shipper/in-flight.test.ts',
  'test/shipper/rotation.test.ts',
  'test/shipper/dead-letter.test.ts',
  'test/api/list.test.ts',
  'test/api/properties.test.ts',
  'test/api/stats-export.test.ts',
  'test/e2e/pipeline.test.ts',
  'test/e2e/stack.test.ts',
];

/** Every suite: the Elasticsearch pass. */
export const ALL_SUITES = ['test/**/*.test.ts'];
