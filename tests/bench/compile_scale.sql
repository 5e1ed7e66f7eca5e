-- One month of generated updates for tests/bench/compile_scale.sh (psql variables: n = updates
-- in the month, y and m = the period, tag = a word making the update ids unique per run).
--
-- Shape: the seed's six units and seven work areas; items = least(n / 10, 5000) item keys,
-- update g amends item g % items (revision g / items), so every item has about n / items
-- revisions interleaved in commit order, as amendments arrive; one item in 20 ends withdrawn
-- (its last revision), one in 10 is a limitation and one in 10 a next task; every update of
-- an area that has indicators carries one indicator value, and item texts use the month,
-- year-to-date and percentage placeholders.
INSERT INTO updates (update_id, unit_code, year, month, section, area_code, item_key,
                     item_order, revision, withdrawn, text, sub_items, payload, content_sha256,
                     stored_by)
SELECT md5(:'tag' || '/' || :y || '-' || :m || '/' || g)::uuid,
       c.units[1 + i % c.nu], :y, :m,
       CASE i % 10 WHEN 8 THEN 'limitation' WHEN 9 THEN 'next_task' ELSE 'result' END,
       c.areas[1 + (i / c.nu) % c.na], 'item-' || i, i, r,
       i % 20 = 19 AND r = (:n - 1 - i) / c.k,
       format('Mục %s, lần sửa %s: %s', i, r,
              CASE i % 4
                  WHEN 0 THEN 'đã đăng {TIN_BAI} tin, bài; lũy kế {TIN_BAI.ytd} tin, bài, đạt {TIN_BAI.pct} Kế hoạch năm.'
                  WHEN 1 THEN 'triển khai {THANHTRA_CUOC} cuộc thanh tra, lũy kế {THANHTRA_CUOC.ytd} cuộc.'
                  WHEN 2 THEN 'kiểm tra {ISO_KIEMTRA} đơn vị; lũy kế {ISO_KIEMTRA.ytd}, đạt {ISO_KIEMTRA.pct} Kế hoạch.'
                  ELSE 'tiếp tục thực hiện các nhiệm vụ theo kế hoạch.' END),
       CASE WHEN i % 7 = 0 THEN '["Nội dung thứ nhất;", "Nội dung thứ hai."]'::jsonb
            ELSE '[]'::jsonb END,
       p.payload, encode(sha256(p.payload), 'hex'), 'bench'
  FROM (SELECT greatest(least(:n / 10, 5000), 1) AS k,
               (SELECT array_agg(code ORDER BY position) FROM units) AS units,
               (SELECT count(*)::int FROM units) AS nu,
               (SELECT array_agg(code ORDER BY position) FROM work_areas) AS areas,
               (SELECT count(*)::int FROM work_areas) AS na) c,
       generate_series(0, :n - 1) AS g,
       LATERAL (SELECT g % c.k AS i, g / c.k AS r) ir,
       LATERAL (SELECT convert_to(format('bench %s %s-%s %s', :'tag', :y, :m, g), 'UTF8')
                    AS payload) p
 ORDER BY g;

-- One indicator value per update of an area with indicators (picked by item), 1 to 5.
INSERT INTO indicator_values (update_seq, indicator_code, value)
SELECT x.seq, a.codes[1 + x.item_order % cardinality(a.codes)], 1 + x.revision % 5
  FROM updates x
  JOIN (SELECT area_code, array_agg(code ORDER BY code) AS codes FROM indicators
         GROUP BY area_code) a ON a.area_code = x.area_code
 WHERE x.year = :y AND x.month = :m AND x.stored_by = 'bench';

-- The loading session skips triggers (session_replication_role = replica, for the foreign-key
-- checks), so it does here what the trigger of migration 007 does for an inserted batch.
INSERT INTO item_heads AS h (year, month, unit_code, item_key, revision, seq, withdrawn)
SELECT DISTINCT ON (year, month, unit_code, item_key)
       year, month, unit_code, item_key, revision, seq, withdrawn
  FROM updates
 WHERE year = :y AND month = :m AND stored_by = 'bench'
 ORDER BY year, month, unit_code, item_key, revision DESC, seq DESC
ON CONFLICT (year, month, unit_code, item_key) DO UPDATE
   SET revision = excluded.revision, seq = excluded.seq, withdrawn = excluded.withdrawn
 WHERE (excluded.revision, excluded.seq) > (h.revision, h.seq);
