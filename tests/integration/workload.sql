-- workload.sql - a SQL workload for sqlite3.sh: the sqlite3 CLI runs it with
-- and without libsnapalloc preloaded and the outputs must be identical.
-- The page cache, prepared statements and result strings all live in
-- malloc memory; 20k-row tables make it grow and shrink.  Every query has
-- an ORDER BY (or a single-row result) so that the output is deterministic.
.headers off
.mode list
PRAGMA cache_size = -8000;

CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER NOT NULL,
                     amount INTEGER NOT NULL, note TEXT);

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO customers (id, name, city)
SELECT i, 'customer-' || printf('%05d', i),
       CASE i % 7 WHEN 0 THEN 'Berlin' WHEN 1 THEN 'Lisbon' WHEN 2 THEN 'Oslo'
                  WHEN 3 THEN 'Paris' WHEN 4 THEN 'Rome' WHEN 5 THEN 'Vienna' ELSE 'Zagreb' END
FROM n;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO orders (id, customer, amount, note)
SELECT i, (i * 7919) % 2000 + 1, (i * 104729) % 10007,
       substr('abcdefghijklmnopqrstuvwxyz', i % 26 + 1, i % 13 + 1) || '-' || hex(i * 31)
FROM n;

CREATE INDEX orders_customer ON orders (customer);
CREATE INDEX orders_amount ON orders (amount);

SELECT 'customers', count(*) FROM customers;
SELECT 'orders', count(*), sum(amount), min(amount), max(amount) FROM orders;

SELECT c.city, count(*), sum(o.amount), round(avg(o.amount), 3)
FROM orders o JOIN customers c ON c.id = o.customer
GROUP BY c.city ORDER BY c.city;

SELECT c.name, count(o.id) AS n, sum(o.amount) AS total
FROM customers c LEFT JOIN orders o ON o.customer = c.id
GROUP BY c.id ORDER BY total DESC, c.name LIMIT 10;

SELECT upper(substr(note, 1, 3)), length(note), replace(note, '-', '+'), instr(note, '-')
FROM orders WHERE amount BETWEEN 100 AND 140 ORDER BY id LIMIT 15;

SELECT group_concat(name, ',') FROM (SELECT name FROM customers WHERE id % 250 = 0 ORDER BY id);

UPDATE orders SET note = note || note || note WHERE id % 3 = 0;
DELETE FROM orders WHERE amount < 2000;
SELECT 'after', count(*), sum(length(note)), total_changes() FROM orders;

CREATE TABLE stats AS
SELECT customer, count(*) AS n, max(amount) AS top, group_concat(id, ' ') AS ids
FROM orders GROUP BY customer;
SELECT count(*), sum(n), sum(top), sum(length(ids)) FROM stats;
SELECT customer, n, top, substr(ids, 1, 40) FROM stats ORDER BY n DESC, customer LIMIT 5;

SELECT lower(city) || ':' || trim(printf('%10d', count(*))) FROM customers GROUP BY city ORDER BY city;

WITH RECURSIVE fib(a, b, k) AS (SELECT 0, 1, 0 UNION ALL SELECT b, a + b, k + 1 FROM fib WHERE k < 80)
SELECT k, a FROM fib WHERE k % 10 = 0 ORDER BY k;

DROP INDEX orders_amount;
VACUUM;
SELECT 'integrity', * FROM pragma_integrity_check;
