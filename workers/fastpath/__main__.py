"""`python -m workers.fastpath`."""

from workers.fastpath.server import main

main()
