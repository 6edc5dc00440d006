"""How many build codes one answer lists: by default, and at most (the tools publish both)."""

# A first page of about 1,100 tokens answers most questions (search answers the rest); the whole list of a
# typical vehicle then takes one more call.
DEFAULT_BUILD_CODES_LIMIT = 100
MAX_BUILD_CODES_LIMIT = 300
