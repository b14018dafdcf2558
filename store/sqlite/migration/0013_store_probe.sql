-- store_probe holds nothing between transactions: Store.probe writes a row
-- larger than a page and deletes it in one transaction, to learn whether a
-- write reaches the file (after a full disk or a read-only file failed one,
-- and once at open).
CREATE TABLE store_probe (
	id  INTEGER PRIMARY KEY,
	pad BLOB NOT NULL
);
