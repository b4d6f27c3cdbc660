-- cmp serve on PostgreSQL: the initial schema.
-- Applied once by `cmp serve --store postgres://...`, inside a transaction
-- that holds an advisory lock, and recorded in schema_migrations.
-- Times are milliseconds since the Unix epoch (bigint), as in the SQLite store.

-- Settings shared by every instance: the CA certificate the records belong
-- to and, for the demo hierarchy, its keys.
CREATE TABLE cmp_meta (
    key   text  PRIMARY KEY,
    value bytea NOT NULL
);

-- Open CMP transactions, keyed by transactionID. `record` is the DER of
-- cmp_core's TransactionRecord. Any instance may continue any transaction.
CREATE TABLE cmp_transactions (
    id      bytea  PRIMARY KEY,
    record  bytea  NOT NULL,
    expires bigint NOT NULL
);
CREATE INDEX cmp_transactions_expires ON cmp_transactions (expires);

-- Every certificate the CA issued. The primary key makes serial numbers
-- unique across instances: an insert that collides is retried with a new
-- random serial number.
CREATE TABLE cmp_issued (
    serial       bytea  PRIMARY KEY,          -- big-endian, no leading zero bytes
    certificate  bytea  NOT NULL,             -- DER
    subject      text   NOT NULL,
    issued_at    bigint NOT NULL,
    confirmed_at bigint                       -- certConf or implicit confirmation
);

-- Revocations; the CRL is built from these rows.
CREATE TABLE cmp_revoked (
    serial     bytea    PRIMARY KEY REFERENCES cmp_issued (serial),
    revoked_at bigint   NOT NULL,
    reason     smallint                       -- CRLReason code
);
