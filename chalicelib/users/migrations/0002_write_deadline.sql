-- A write its client has given up on is never applied later. The client abandons a statement with
-- no answer (a frozen or stalled server); once the server runs again it would still execute the
-- statement waiting in its socket and commit it, a write answered 503 appearing afterwards. Each
-- write carries the moment its client stops waiting for it, and fails (query_canceled) past it.
CREATE OR REPLACE FUNCTION write_deadline(deadline timestamptz) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF deadline IS NOT NULL AND clock_timestamp() > deadline THEN
        RAISE EXCEPTION 'write reached the server after its deadline %, its client had given up', deadline
            USING ERRCODE = 'query_canceled';
    END IF;
    RETURN true;
END
$$;
