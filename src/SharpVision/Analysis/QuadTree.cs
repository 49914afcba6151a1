using System.Runtime.InteropServices;

namespace SharpVision.Analysis;

/// <summary>
/// A point-region quadtree over 2-D points for Barnes–Hut sums: every cell knows its centre of mass and point count,
/// so a far cell's points can be treated as one heavy point.
/// </summary>
/// <remarks>
/// Cells are stored depth first in one array of small structs, each with the index just past its subtree, so a
/// traversal is a loop without a stack (descend: index + 1; skip: next) that reads one cache line per cell. A cell
/// with one point is a leaf; so is a cell deeper than <see cref="MaxDepth"/>, which only (near-)coincident points
/// reach, and whose points then act at their common centre of mass. Each cell covers a contiguous range of the points
/// in tree order, which makes "does this cell hold point i" one range test.
/// </remarks>
internal sealed class QuadTree
{
    /// <summary>Cells deeper than this are leaves whatever their count (their width is 2⁻⁴⁸ of the root's).</summary>
    public const int MaxDepth = 48;

    [StructLayout(LayoutKind.Sequential)]
    private struct Cell
    {
        public double ComX, ComY, WidthSquared;
        public int Count, Start, End, Next; // points [Start, End) in tree order; Next = Start of the following subtree in cell order
    }

    private Cell[] _cells = new Cell[64];
    private int _cellCount;
    private readonly int[] _order;    // tree position → point index
    private readonly int[] _position; // point index → tree position
    private readonly int[] _scratch;

    /// <summary>Builds the tree of <paramref name="count"/> points given as interleaved (x, y) pairs.</summary>
    /// <exception cref="ArgumentException">No points, or a coordinate that is not finite.</exception>
    public QuadTree(ReadOnlySpan<double> points, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (points.Length != 2 * count) throw new ArgumentException($"{count} points need {2 * count} coordinates; got {points.Length}.", nameof(points));
        foreach (double v in points)
            if (!double.IsFinite(v)) throw new ArgumentException("A coordinate is NaN or infinite.", nameof(points));
        _order = new int[count];
        _scratch = new int[count];
        for (int i = 0; i < count; i++) _order[i] = i;
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity, maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
        for (int i = 0; i < count; i++)
        {
            minX = Math.Min(minX, points[2 * i]);
            maxX = Math.Max(maxX, points[2 * i]);
            minY = Math.Min(minY, points[2 * i + 1]);
            maxY = Math.Max(maxY, points[2 * i + 1]);
        }
        // A square root cell slightly larger than the bounding box, so every point is strictly inside.
        double width = Math.Max(maxX - minX, maxY - minY);
        width = width * (1 + 1e-6) + 1e-12 * (1 + Math.Max(Math.Abs(minX), Math.Abs(minY)));
        Build(points, 0, count, minX, minY, width, 0);
        _position = new int[count];
        for (int p = 0; p < count; p++) _position[_order[p]] = p;
    }

    /// <summary>Number of cells.</summary>
    public int Cells => _cellCount;

    /// <summary>The points in tree order (spatially coherent: neighbours in it are mostly neighbours on the map).</summary>
    public ReadOnlySpan<int> Order => _order;

    // Partitions _order[start..end) into the four quadrants of the cell (minX, minY, width), depth first.
    private void Build(ReadOnlySpan<double> points, int start, int end, double minX, double minY, double width, int depth)
    {
        int cell = _cellCount++;
        if (cell == _cells.Length) Array.Resize(ref _cells, 2 * _cells.Length);
        double sumX = 0, sumY = 0;
        for (int p = start; p < end; p++)
        {
            sumX += points[2 * _order[p]];
            sumY += points[2 * _order[p] + 1];
        }
        int n = end - start;
        _cells[cell] = new Cell { ComX = sumX / n, ComY = sumY / n, WidthSquared = width * width, Count = n, Start = start, End = end };
        if (n > 1 && depth < MaxDepth)
        {
            double half = width / 2, midX = minX + half, midY = minY + half;
            // Quadrant q = (x ≥ midX) + 2·(y ≥ midY): a counting pass, then a stable scatter.
            Span<int> counts = stackalloc int[4];
            for (int p = start; p < end; p++) counts[Quadrant(points, _order[p], midX, midY)]++;
            Span<int> offsets = [0, counts[0], counts[0] + counts[1], counts[0] + counts[1] + counts[2]];
            Span<int> cursor = stackalloc int[4];
            offsets.CopyTo(cursor);
            var scratch = _scratch.AsSpan(start, n);
            for (int p = start; p < end; p++) scratch[cursor[Quadrant(points, _order[p], midX, midY)]++] = _order[p];
            scratch.CopyTo(_order.AsSpan(start, n));
            for (int q = 0; q < 4; q++)
                if (counts[q] > 0)
                    Build(points, start + offsets[q], start + offsets[q] + counts[q], (q & 1) != 0 ? midX : minX, (q & 2) != 0 ? midY : minY, half, depth + 1);
        }
        _cells[cell].Next = _cellCount; // a leaf's next is cell + 1
    }

    private static int Quadrant(ReadOnlySpan<double> points, int i, double midX, double midY) =>
        (points[2 * i] >= midX ? 1 : 0) + (points[2 * i + 1] >= midY ? 2 : 0);

    /// <summary>
    /// The Barnes–Hut repulsion on point <paramref name="self"/> at (x, y): Z = Σⱼ wⱼ and F = Σⱼ wⱼ²·(y − yⱼ) over all
    /// other points, wⱼ = 1/(1 + ‖y − yⱼ‖²). A cell of width w whose centre of mass is at distance r stands in for all
    /// its points when w &lt; θ·r and it does not hold the point itself; leaves always do (minus the point itself).
    /// θ = 0 visits every leaf, which is exact.
    /// </summary>
    public (double Z, double Fx, double Fy) Repulsion(int self, double x, double y, double theta)
    {
        double z = 0, fx = 0, fy = 0, theta2 = theta * theta;
        int position = _position[self];
        var cells = _cells;
        int cell = 0, count = _cellCount;
        while (cell < count)
        {
            ref readonly var c = ref cells[cell];
            bool holdsSelf = position >= c.Start && position < c.End;
            double dx = x - c.ComX, dy = y - c.ComY;
            double r2 = dx * dx + dy * dy;
            bool leaf = c.Next == cell + 1;
            if (leaf || (!holdsSelf && c.WidthSquared < theta2 * r2))
            {
                int mass = holdsSelf ? c.Count - 1 : c.Count;
                double w = 1 / (1 + r2);
                z += mass * w;
                double mw2 = mass * w * w;
                fx += mw2 * dx;
                fy += mw2 * dy;
                cell = c.Next;
            }
            else
            {
                cell++; // first child
            }
        }
        return (z, fx, fy);
    }
}
