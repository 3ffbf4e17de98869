public enum IngestorModule {}
