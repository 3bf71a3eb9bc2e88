// The running mean that smooths training curves: the mean of the window ending at each point,
// over fewer points at the start, x values unchanged.

import Testing
import NotebookSupport

@Test func runningMeanAveragesTheWindowEndingAtEachPoint() {
    let curve: [(Double, Double)] = [(1, 4), (2, 8), (3, 0), (4, 4), (5, 10)]
    let smoothed = runningMean(curve, window: 3)
    #expect(smoothed.map(\.0) == [1, 2, 3, 4, 5])
    #expect(smoothed.map(\.1) == [4, 6, 4, 4, 14.0 / 3])
    #expect(runningMean(curve, window: 1).map(\.1) == curve.map(\.1))
    #expect(runningMean([], window: 5).isEmpty)
}
