# Bad input: the code fails while the cells run (before any graded call).
import numpy as np
import a_module_that_does_not_exist  # noqa: F401
