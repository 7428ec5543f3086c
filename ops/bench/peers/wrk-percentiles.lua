-- After a run, the latency percentiles the benchmark reports, in microseconds: wrk's own
-- --latency table stops at p99 and rounds to two decimals of its unit.
done = function(summary, latency, requests)
  for _, p in ipairs({ 50, 99, 99.9 }) do
    io.write(string.format("percentile %g %d\n", p, latency:percentile(p)))
  end
end
