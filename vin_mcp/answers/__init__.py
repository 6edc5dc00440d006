"""What vin-mcp says: the answer models, how they are built from the vendor's payloads (with the
confidence rules), and the text the assistant reads. No I/O."""

from vin_mcp.answers.models import BuildDataAnswer, BuildFacts, LookupAnswer

__all__ = ["BuildDataAnswer", "BuildFacts", "LookupAnswer"]
