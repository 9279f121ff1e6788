-- The Temporal server keeps its own databases beside the service's (auto-setup creates the
-- schemas in them); the service's database is POSTGRES_DB.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
