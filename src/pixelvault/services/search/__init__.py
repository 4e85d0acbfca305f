"""Full-text search: the index in FullText/, its documents, queries and indexer."""
