"""The shared core: documents, chunks and metadata, Vietnamese text functions; imports nothing from ingest/, index/ or web/."""
