"""The VIN domain: normalising, validating and decoding a VIN, and telling makes apart. No I/O."""

from vin_mcp.vin.makes import BUILD_DATA_FIRST_YEAR, build_data_covers, same_maker
from vin_mcp.vin.rules import VinDecode, decode_vin, normalise_vin, validate_vin

__all__ = [
    "BUILD_DATA_FIRST_YEAR",
    "VinDecode",
    "build_data_covers",
    "decode_vin",
    "normalise_vin",
    "same_maker",
    "validate_vin",
]
