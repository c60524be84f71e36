-- @tag auth
-- @setup seed
-- @teardown unseed
SELECT v FROM seeded;
SELECT count(*) AS run_roles FROM pg_roles WHERE rolname ~ '^tagged_[0-9a-f]{12}$';
