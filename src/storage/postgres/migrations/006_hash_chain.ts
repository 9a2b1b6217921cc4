import type { Migration } from './migration.js';

export const hashChain: Migration = {
  version: 6,
  name: 'hash_chain',
  sql: `
    -- Canonical JSON exactly as src/storage/eventlog/hashChain.ts writes it: keys sorted by code
    -- point (COLLATE "C" over UTF-8), no whitespace, strings escaped as JSON.stringify does (which
    -- is what Postgres prints for a JSON string). Numbers: the event schema holds only safe
    -- integers, printed alike by both; anything else is refused rather than hashed differently.
    CREATE FUNCTION es_canonical_json(v jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $fn$
    DECLARE
      out text;
    BEGIN
      CASE jsonb_typeof(v)
        WHEN 'object' THEN
          SELECT '{' || COALESCE(string_agg(to_jsonb(e.key)::text || ':' || es_canonical_json(e.value), ',' ORDER BY e.key COLLATE "C"), '') || '}'
            INTO out FROM jsonb_each(v) AS e;
        WHEN 'array' THEN
          SELECT '[' || COALESCE(string_agg(es_canonical_json(a.value), ',' ORDER BY a.ord), '') || ']'
            INTO out FROM jsonb_array_elements(v) WITH ORDINALITY AS a(value, ord);
        WHEN 'number' THEN
          IF v::text !~ '^-?(0|[1-9][0-9]{0,15})$' OR abs(v::text::numeric) > 9007199254740991 THEN
            RAISE EXCEPTION 'es_canonical_json: % is not a safe integer', v::text;
          END IF;
          out := v::text;
        ELSE
          out := v::text;
      END CASE;
      RETURN out;
    END
    $fn$;

    CREATE FUNCTION es_canonical_event(stream_id text, version bigint, event_id uuid, type text, schema_version integer, data jsonb, metadata jsonb)
    RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $fn$
      SELECT es_canonical_json(jsonb_build_object('data', data, 'eventId', event_id::text, 'metadata', metadata,
        'schemaVersion', schema_version, 'streamId', stream_id, 'type', type, 'version', version))
    $fn$;

    -- hash_n = sha256(hash_{n-1} || canonical event n), hash_0 = 32 zero bytes, per stream.
    -- The hashes of documents appended after a head, in order: the append statement's chain (a loop,
    -- linear in the number of events; a recursive CTE over an array parameter is quadratic).
    CREATE FUNCTION es_hash_chain(previous bytea, documents text[]) RETURNS TABLE (ord bigint, hash bytea)
    LANGUAGE plpgsql IMMUTABLE STRICT AS $fn$
    DECLARE
      document text;
      h bytea := previous;
      i bigint := 0;
    BEGIN
      FOREACH document IN ARRAY documents LOOP
        i := i + 1;
        h := sha256(h || convert_to(document, 'UTF8'));
        ord := i;
        hash := h;
        RETURN NEXT;
      END LOOP;
    END
    $fn$;

    ALTER TABLE es_events ADD COLUMN hash bytea;
    ALTER TABLE es_streams ADD COLUMN head_hash bytea;

    DO $backfill$
    DECLARE
      r record;
      prev bytea;
      stream text := NULL;
    BEGIN
      FOR r IN SELECT global_position, stream_id, stream_version, event_id, type, schema_version, data, metadata
               FROM es_events ORDER BY stream_id, stream_version LOOP
        IF stream IS DISTINCT FROM r.stream_id THEN
          prev := decode(repeat('00', 32), 'hex');
          stream := r.stream_id;
        END IF;
        prev := sha256(prev || convert_to(es_canonical_event(r.stream_id, r.stream_version, r.event_id, r.type, r.schema_version, r.data, r.metadata), 'UTF8'));
        UPDATE es_events SET hash = prev WHERE global_position = r.global_position;
      END LOOP;
    END
    $backfill$;

    UPDATE es_streams s SET head_hash = COALESCE(
      (SELECT e.hash FROM es_events e WHERE e.stream_id = s.stream_id ORDER BY e.stream_version DESC LIMIT 1),
      decode(repeat('00', 32), 'hex'));

    ALTER TABLE es_events ALTER COLUMN hash SET NOT NULL,
      ADD CONSTRAINT es_events_hash_sha256 CHECK (octet_length(hash) = 32);
    ALTER TABLE es_streams ALTER COLUMN head_hash SET NOT NULL,
      ADD CONSTRAINT es_streams_head_hash_sha256 CHECK (octet_length(head_hash) = 32);
  `,
};
