"""The EVTX format's numbers, declared once: file, chunk and record headers, BinXml tokens and value
types. The layout scanner, both engines and the test kit's writer import them from here.

Offsets are from the start of the header they belong to. Sources: libyal's "Windows XML Event Log
(EVTX)" format description and pyevtx-rs, whose reading the engines follow.
"""

from __future__ import annotations

import struct

# File header: the first block of the file.
FILE_MAGIC = b"ElfFile\0"
FILE_HEADER_SIZE = 0x1000  # the block the header occupies; chunks start after it
FILE_HEADER_USED = 0x80  # the bytes of the header that hold fields (also its "header size" field)
# magic, first and last chunk number, next record id, header size, minor and major version,
# header block size, chunk count
FILE_HEADER = struct.Struct("<8sQQQIHHHH")
FILE_VERSION = struct.Struct("<HHH")  # at FILE_VERSION_AT: minor, major version, header block size
FILE_VERSION_AT = 0x24
FILE_HEADER_BLOCK_AT = 0x28  # the header block size alone (as a `<H`)
FILE_CHUNK_COUNT_AT = 0x2A  # `<H`: the number of chunks, as last written (may be stale)
FILE_FLAGS_AT = 0x78  # `<I`: dirty (1) and full (2)

# Both headers: a CRC32 of the first CRC_SPAN bytes (and, in a chunk, of its tables) at CRC_AT.
CRC_SPAN = 0x78
CRC_AT = 0x7C

# Chunk header.
CHUNK_MAGIC = b"ElfChnk\0"
CHUNK_SIZE = 0x10000
CHUNK_HEADER_SIZE = 0x200  # where the chunk's first record starts
# magic, first and last record number, first and last record id, header size (0x80), offset of the
# last record, of the free space, CRC32 of the records
CHUNK_HEADER = struct.Struct("<8sQQQQIIII")
CHUNK_HEADER_USED = 0x80
CHUNK_RECORD_NUMBERS = struct.Struct("<QQ")  # at CHUNK_NUMBERS_AT: first and last record number
CHUNK_NUMBERS_AT = 0x08
CHUNK_IDS_AT = 0x18  # `<QQ`: first and last record id, the numbers the records carry
CHUNK_LAST_RECORD_AT = 0x2C  # `<I`: offset of the last record
CHUNK_FREE_AT = 0x30  # `<I`: offset of the free space after the records
CHUNK_DATA_CRC_AT = 0x34  # `<I`: CRC32 of the records (CHUNK_HEADER_SIZE up to the free space)
CHUNK_TABLES_AT = 0x80  # the tables are covered by the header CRC, after its first CRC_SPAN bytes
CHUNK_NAMES = struct.Struct("<64I")  # at CHUNK_NAMES_AT: the name hash table's 64 bucket heads
CHUNK_NAMES_AT = 0x80
CHUNK_TEMPLATES = struct.Struct("<32I")  # at CHUNK_TEMPLATES_AT: the template table's 32 bucket heads
CHUNK_TEMPLATES_AT = 0x180
NAME_ENTRY = struct.Struct("<IHH")  # a name: link to the next in its bucket, hash, length in UTF-16 units

# Record header: magic, size, number, time (FILETIME); the BinXml follows, then the size again.
RECORD_MAGIC = 0x2A2A
RECORD_HEADER = struct.Struct("<IIQQ")
RECORD_MIN_SIZE = RECORD_HEADER.size + 4  # a header and the size copy, with no BinXml between

# BinXml tokens (the low nibble; MORE_BITS set when the element has attributes, or more follows).
T_END_OF_STREAM = 0x00
T_OPEN_START_ELEMENT = 0x01
T_CLOSE_START_ELEMENT = 0x02
T_CLOSE_EMPTY_ELEMENT = 0x03
T_END_ELEMENT = 0x04
T_VALUE = 0x05
T_ATTRIBUTE = 0x06
T_CDATA = 0x07
T_CHAR_REF = 0x08
T_ENTITY_REF = 0x09
T_PI_TARGET = 0x0A
T_PI_DATA = 0x0B
T_TEMPLATE_INSTANCE = 0x0C
T_NORMAL_SUBSTITUTION = 0x0D
T_OPTIONAL_SUBSTITUTION = 0x0E
T_FRAGMENT_HEADER = 0x0F
MORE_BITS = 0x40

# BinXml value types; ARRAY is a flag on the item's type.
V_NULL = 0x00
V_STRING = 0x01  # UTF-16
V_ANSI_STRING = 0x02
V_INT8 = 0x03
V_UINT8 = 0x04
V_INT16 = 0x05
V_UINT16 = 0x06
V_INT32 = 0x07
V_UINT32 = 0x08
V_INT64 = 0x09
V_UINT64 = 0x0A
V_REAL32 = 0x0B
V_REAL64 = 0x0C
V_BOOL = 0x0D
V_BINARY = 0x0E
V_GUID = 0x0F
V_SIZE_T = 0x10
V_FILETIME = 0x11
V_SYSTEMTIME = 0x12
V_SID = 0x13
V_HEX32 = 0x14
V_HEX64 = 0x15
V_EVT_HANDLE = 0x20
V_BINXML = 0x21
V_EVT_XML = 0x23
V_ARRAY = 0x80

# A template definition in a chunk: link to the next in its bucket, GUID, size of its BinXml.
TEMPLATE_HEADER = struct.Struct("<I16sI")
