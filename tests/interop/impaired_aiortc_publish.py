#!/usr/bin/python3
"""aiortc_whip_publish.py with a host candidate on a given address.

The impaired-network sweep runs aiortc inside the clinic's network
namespace, where 127.0.0.1 (what aiortc_whip_publish.py gives aioice) is
not reachable from the relay. This imports that script unchanged and points
aioice at the clinic's bed address instead.

usage: impaired_aiortc_publish.py ADDRESS URL TOKEN SECONDS
"""
import asyncio
import os
import sys
import urllib.parse  # noqa: F401  (the publisher's main() uses urllib.parse)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aioice.ice  # noqa: E402
import aiortc_whip_publish as publisher  # noqa: E402  (sets 127.0.0.1; replaced below)

if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    address = sys.argv[1]
    # aioice looks the function up at gathering time, so replacing it after
    # the import takes effect.
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=False: [address]
    sys.exit(asyncio.run(publisher.main(sys.argv[2], sys.argv[3], float(sys.argv[4]), "vp8")))
