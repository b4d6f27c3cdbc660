-- cmp serve on PostgreSQL: the key archive.
-- Private keys archived on enrollment (the requester's pkiArchiveOptions,
-- centrally generated keys), for key recovery (krr) on any instance.
-- `sealed` is the PKCS#8 private key wrapped with AES-256 key wrap with
-- padding (RFC 5649) under a key derived by HKDF-SHA256 from the CA's
-- private key and the certificate: never the key in clear.
CREATE TABLE cmp_archived_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- archive order
    serial      bytea  NOT NULL UNIQUE REFERENCES cmp_issued (serial),
    subject     bytea  NOT NULL,          -- DER of the certificate's subject
    sealed      bytea  NOT NULL,
    archived_at bigint NOT NULL
);
CREATE INDEX cmp_archived_keys_subject ON cmp_archived_keys (subject, id);
