"""What vin-mcp says: the answer models, how they are built from the vendor's payloads (with the
confidence rules), and the text the assistant reads. No I/O."""
