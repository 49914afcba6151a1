namespace SharpVision.Analysis;

/// <summary>
/// A point-region quadtree over 2-D points for Barnes–Hut sums: every cell knows its centre of mass and point count,
/// so a far cell's points can be treated as one heavy point.
/// </summary>
/// <remarks>
/// Cells are stored depth first in flat arrays, each with the index just past its subtree, so a
/// traversal is a loop without a stack: descend = index + 1, skip = next. A cell with one point (or deeper than
/// <see cref="MaxDepth"/>, which only coincident points reach) is a leaf and lists its points, copied into tree order
/// for locality.
/// </remarks>
internal sealed class QuadTree
{
    /// <summary>Cells deeper than this are leaves whatever their count (their width is 2⁻⁴⁸ of the root's).</summary>
    public const int MaxDepth = 48;

    private readonly List<Cell> _build = [];
    private readonly int[] _order, _scratch;
    private readonly double[] _x, _y;
    private readonly double[] _comX, _comY, _minX, _minY, _width;
    private readonly int[] _count, _next, _start, _end;
    private readonly bool[] _leaf;

    private record struct Cell(double ComX, double ComY, double MinX, double MinY, double Width, int Count, int Start, int End, bool Leaf, int Next);

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
        var xs = new double[count];
        var ys = new double[count];
        for (int i = 0; i < count; i++) (xs[i], ys[i]) = (points[2 * i], points[2 * i + 1]);
        Build(xs, ys, 0, count, minX, minY, width, 0);
        _x = new double[count];
        _y = new double[count];
        for (int i = 0; i < count; i++) (_x[i], _y[i]) = (xs[_order[i]], ys[_order[i]]);
        // Structure of arrays for the traversal loop.
        _comX = _build.Select(c => c.ComX).ToArray();
        _comY = _build.Select(c => c.ComY).ToArray();
        _minX = _build.Select(c => c.MinX).ToArray();
        _minY = _build.Select(c => c.MinY).ToArray();
        _width = _build.Select(c => c.Width).ToArray();
        _count = _build.Select(c => c.Count).ToArray();
        _start = _build.Select(c => c.Start).ToArray();
        _end = _build.Select(c => c.End).ToArray();
        _leaf = _build.Select(c => c.Leaf).ToArray();
        _next = _build.Select(c => c.Next).ToArray();
        _build.Clear();
    }

    /// <summary>Number of cells.</summary>
    public int Cells => _count.Length;

    // Partitions _order[start..end) into the four quadrants of the cell (minX, minY, width), depth first.
    private void Build(double[] xs, double[] ys, int start, int end, double minX, double minY, double width, int depth)
    {
        int cell = _build.Count;
        double sumX = 0, sumY = 0;
        for (int p = start; p < end; p++)
        {
            sumX += xs[_order[p]];
            sumY += ys[_order[p]];
        }
        int n = end - start;
        bool leaf = n == 1 || depth >= MaxDepth;
        _build.Add(new Cell(sumX / n, sumY / n, minX, minY, width, n, start, end, leaf, 0));
        if (!leaf)
        {
            double half = width / 2, midX = minX + half, midY = minY + half;
            // Quadrant q = (x ≥ midX) + 2·(y ≥ midY); a counting pass, then a stable scatter.
            Span<int> quadrantCounts = stackalloc int[4];
            for (int p = start; p < end; p++) quadrantCounts[Quadrant(_order[p])]++;
            var scratch = _scratch.AsSpan(start, n);
            Span<int> offsets = [0, quadrantCounts[0], quadrantCounts[0] + quadrantCounts[1], quadrantCounts[0] + quadrantCounts[1] + quadrantCounts[2]];
            Span<int> cursor = stackalloc int[4];
            offsets.CopyTo(cursor);
            for (int p = start; p < end; p++) scratch[cursor[Quadrant(_order[p])]++] = _order[p];
            scratch.CopyTo(_order.AsSpan(start, n));
            for (int q = 0; q < 4; q++)
                if (quadrantCounts[q] > 0)
                    Build(xs, ys, start + offsets[q], start + offsets[q] + quadrantCounts[q], (q & 1) != 0 ? midX : minX, (q & 2) != 0 ? midY : minY, half, depth + 1);

            int Quadrant(int i) => (xs[i] >= midX ? 1 : 0) + (ys[i] >= midY ? 2 : 0);
        }
        _build[cell] = _build[cell] with { Next = _build.Count };
    }

    /// <summary>
    /// The Barnes–Hut repulsion on point <paramref name="self"/> at (x, y): Z = Σⱼ wⱼ and F = Σⱼ wⱼ²·(y − yⱼ) over all
    /// other points, wⱼ = 1/(1 + ‖y − yⱼ‖²); a cell of width w whose centre of mass is at distance r stands in for all
    /// its points when w &lt; θ·r and it does not contain the point itself. θ = 0 visits every point (exact).
    /// </summary>
    public (double Z, double Fx, double Fy) Repulsion(int self, double x, double y, double theta)
    {
        double z = 0, fx = 0, fy = 0, theta2 = theta * theta;
        var comX = _comX;
        var comY = _comY;
        var width = _width;
        int cell = 0, cells = comX.Length;
        while (cell < cells)
        {
            if (_leaf[cell])
            {
                for (int p = _start[cell]; p < _end[cell]; p++)
                {
                    if (_order[p] == self) continue;
                    double dx = x - _x[p], dy = y - _y[p];
                    double w = 1 / (1 + dx * dx + dy * dy);
                    z += w;
                    double w2 = w * w;
                    fx += w2 * dx;
                    fy += w2 * dy;
                }
                cell = _next[cell];
                continue;
            }
            double cx = x - comX[cell], cy = y - comY[cell];
            double r2 = cx * cx + cy * cy;
            double cw = width[cell];
            if (cw * cw < theta2 * r2 && !Contains(cell, x, y))
            {
                double w = 1 / (1 + r2);
                double mass = _count[cell];
                z += mass * w;
                double mw2 = mass * w * w;
                fx += mw2 * cx;
                fy += mw2 * cy;
                cell = _next[cell];
            }
            else
            {
                cell++; // first child
            }
        }
        return (z, fx, fy);
    }

    private bool Contains(int cell, double x, double y)
    {
        double minX = _minX[cell], minY = _minY[cell], w = _width[cell];
        return x >= minX && x < minX + w && y >= minY && y < minY + w;
    }
}
