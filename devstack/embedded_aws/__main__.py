import sys

from devstack.embedded_aws.server import main

sys.exit(main(sys.argv[1:]))
