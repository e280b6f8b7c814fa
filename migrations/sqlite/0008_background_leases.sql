-- Background work that must run on one host at a time (the deadline sweep, the daily
-- audit anchor) is done by whichever host holds its lease (docs/decisions/0021).
-- A holder renews its lease each time it runs; a lease not renewed before `until`
-- (its host died or stopped) is taken by the next host that asks.
CREATE TABLE background_leases (
    name    TEXT PRIMARY KEY,
    holder  TEXT NOT NULL,
    until   TEXT NOT NULL
);
