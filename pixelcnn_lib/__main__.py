from pixelcnn_lib.cli import main

raise SystemExit(main())
