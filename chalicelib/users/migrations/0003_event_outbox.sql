-- Events a user write produces (user.created), stored by the same statement as the write, so a user
-- never exists without its event. The request that stored one deletes it once the event is in the
-- webhook outbox (DynamoDB); the container's relay hands on what a request did not (its process
-- died first), each claimed for a while so that relays in other processes skip it.
CREATE TABLE event_outbox (
    event_id uuid PRIMARY KEY,
    event_type text NOT NULL,
    body text NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz
);
CREATE INDEX event_outbox_stored_at ON event_outbox (stored_at);
