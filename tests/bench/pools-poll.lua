-- wrk script for tests/bench/bench-pools-poll.sh: each connection sends a request every 600 ms,
-- so 10 connections are ~16.7 requests/s: the poll of 1,000 hosts a minute.
function delay()
   return 600
end
