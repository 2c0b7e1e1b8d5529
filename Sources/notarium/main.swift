import Glibc
import NotariumCLI

exit(await runNotariumCLI())
