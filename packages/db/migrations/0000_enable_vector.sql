-- Custom migration: drizzle-kit writes no CREATE EXTENSION. pgvector backs the default vector store.
CREATE EXTENSION IF NOT EXISTS vector;
