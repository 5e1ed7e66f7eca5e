-- Reporting rate (issue 13, part 4): the first commit of each unit for each period.
--
-- The aggregator looks up, every late-refresh-ms, min(received_at) per active unit for the
-- watched period and the rate-periods before it. Through updates_period that reads every
-- update of the unit and period from the heap: with 40,000 updates per unit and month
-- (2.4 M rows) the look-up of 7 periods took 17-26 s, on the aggregator's only thread. With
-- this index min() is one index probe per unit and period (1-7 ms for the same data). The
-- cost is one more index entry per stored update.
CREATE INDEX updates_first_commit ON updates (year, month, unit_code, received_at);
