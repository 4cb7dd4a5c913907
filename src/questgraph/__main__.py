from questgraph.cli import main

raise SystemExit(main())
