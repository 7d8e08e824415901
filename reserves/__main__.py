from reserves.cli import main

main()
