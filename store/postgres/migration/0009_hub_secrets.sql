-- hub_secrets holds the hub's own secrets, sealed with the encryption
-- keyring as endpoint secrets are (plain only in a store opened without
-- one). Today one: 'api_key_pepper', the HMAC key of API key hashes
-- (hirehook.APIKeyMAC), made on first use.
CREATE TABLE hub_secrets (
    name  text PRIMARY KEY,
    value text NOT NULL
);
