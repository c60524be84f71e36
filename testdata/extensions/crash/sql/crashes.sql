SELECT crash_now();
SELECT 1 AS after;
