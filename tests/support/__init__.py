"""What tests of several packages share: fakes, clocks, golden record fixtures."""
