from workers.scanner.service import main

main()
