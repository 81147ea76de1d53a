## test/samples.mk - every sample is built (samples/local.mk) and run here.

TESTS += test/echo-test.sh
EXTRA_DIST += test/echo-test.sh
