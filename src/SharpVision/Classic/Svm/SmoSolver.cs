namespace SharpVision.Classic.Svm;

/// <summary>What <see cref="SmoSolver.Solve"/> found.</summary>
/// <param name="Rho">ρ: the decision function is Σ αᵢyᵢK(xᵢ, x) − ρ.</param>
/// <param name="Objective">The dual objective ½αᵀQα + pᵀα at the solution.</param>
/// <param name="Iterations">SMO iterations taken.</param>
/// <param name="Converged">False when the iteration limit stopped it.</param>
internal sealed record SmoSolution(double Rho, double Objective, int Iterations, bool Converged);

/// <summary>
/// libsvm's SMO solver (<c>Solver</c> in svm.cpp, version 3): min ½αᵀQα + pᵀα subject to yᵀα = 0 and 0 ≤ αᵢ ≤ Cᵢ,
/// with second-order working-set selection (Fan, Chen and Lin, JMLR 2005), shrinking and gradient reconstruction,
/// ported line by line so that it reaches the same optimum by the same path.
/// </summary>
/// <remarks>
/// The working pair: i maximizes −yᵢ∇ᵢf over I_up; j minimizes −(Gmax + yⱼ∇ⱼf)²/aᵢⱼ over I_low with
/// aᵢⱼ = Qᵢᵢ + Qⱼⱼ − 2yᵢyⱼQᵢⱼ (τ = 10⁻¹² when not positive). It stops when Gmax + Gmax2 &lt; ε. Every 1,000 iterations
/// (or l) variables at a bound whose gradient says they will stay are shrunk (moved past the active set); once the gap is
/// within 10ε the full gradient is rebuilt and all variables are checked again.
/// </remarks>
internal sealed class SmoSolver
{
    private const double Tau = 1e-12;

    private enum Status : byte { LowerBound, UpperBound, Free }

    private int _activeSize, _l;
    private sbyte[] _y = [];
    private double[] _g = [], _gBar = [], _alpha = [], _p = [];
    private Status[] _status = [];
    private int[] _activeSet = [];
    private SvcMatrix _q = null!;
    private double _eps, _cp, _cn;
    private bool _unshrink;

    /// <summary>Solves the problem; <paramref name="alpha"/> (problem order) holds the start on entry and the solution on exit.</summary>
    public SmoSolution Solve(SvcMatrix q, double[] p, sbyte[] y, double[] alpha, double cp, double cn, double eps, bool shrinking, int? maxIterations,
        CancellationToken cancellationToken)
    {
        _l = q.Count;
        int l = _l;
        (_q, _p, _y, _alpha, _cp, _cn, _eps, _unshrink) = (q, (double[])p.Clone(), (sbyte[])y.Clone(), (double[])alpha.Clone(), cp, cn, eps, false);
        _status = new Status[l];
        for (int i = 0; i < l; i++) UpdateStatus(i);
        _activeSet = new int[l];
        for (int i = 0; i < l; i++) _activeSet[i] = i;
        _activeSize = l;
        _g = new double[l];
        _gBar = new double[l];
        for (int i = 0; i < l; i++) _g[i] = _p[i];
        for (int i = 0; i < l; i++)
        {
            if (IsLowerBound(i)) continue;
            var qi = q.Column(i, l);
            double ai = _alpha[i];
            for (int j = 0; j < l; j++) _g[j] += ai * qi[j];
            if (IsUpperBound(i))
                for (int j = 0; j < l; j++) _gBar[j] += C(i) * qi[j];
        }

        int iterations = 0, limit = maxIterations ?? Math.Max(10_000_000, l > int.MaxValue / 100 ? int.MaxValue : 100 * l);
        int counter = Math.Min(l, 1000) + 1;
        while (iterations < limit)
        {
            if (--counter == 0)
            {
                counter = Math.Min(l, 1000);
                if (shrinking) Shrink();
                cancellationToken.ThrowIfCancellationRequested();
            }
            if (!SelectWorkingSet(out int i, out int j))
            {
                ReconstructGradient();
                _activeSize = l;
                if (!SelectWorkingSet(out i, out j)) break;
                counter = 1; // shrink at the next iteration
            }
            iterations++;
            Step(i, j);
        }
        bool converged = iterations < limit;
        if (!converged && _activeSize < l)
        {
            ReconstructGradient();
            _activeSize = l;
        }
        double rho = CalculateRho();
        double objective = 0;
        for (int i = 0; i < l; i++) objective += _alpha[i] * (_g[i] + _p[i]);
        for (int i = 0; i < l; i++) alpha[_activeSet[i]] = _alpha[i];
        return new SmoSolution(rho, objective / 2, iterations, converged);
    }

    /// <summary>The gradient of the last solve (problem order): yᵢ·(Gᵢ − pᵢ) is variable i's Σⱼ αⱼyⱼK(xⱼ, xᵢ).</summary>
    public double[] GradientInProblemOrder()
    {
        var g = new double[_l];
        for (int i = 0; i < _l; i++) g[_activeSet[i]] = _g[i];
        return g;
    }

    private double C(int i) => _y[i] > 0 ? _cp : _cn;

    private void UpdateStatus(int i) =>
        _status[i] = _alpha[i] >= C(i) ? Status.UpperBound : _alpha[i] <= 0 ? Status.LowerBound : Status.Free;

    private bool IsUpperBound(int i) => _status[i] == Status.UpperBound;

    private bool IsLowerBound(int i) => _status[i] == Status.LowerBound;

    private bool IsFree(int i) => _status[i] == Status.Free;

    // One SMO step on the pair (i, j), bounds handled as libsvm does, then G and Ḡ updated.
    private void Step(int i, int j)
    {
        var qi = _q.Column(i, _activeSize);
        var qj = _q.Column(j, _activeSize);
        double ci = C(i), cj = C(j), oldAi = _alpha[i], oldAj = _alpha[j];
        if (_y[i] != _y[j])
        {
            double quad = _q.Diagonal(i) + _q.Diagonal(j) + 2 * qi[j];
            if (quad <= 0) quad = Tau;
            double delta = (-_g[i] - _g[j]) / quad, diff = _alpha[i] - _alpha[j];
            _alpha[i] += delta;
            _alpha[j] += delta;
            if (diff > 0)
            {
                if (_alpha[j] < 0) (_alpha[j], _alpha[i]) = (0, diff);
            }
            else if (_alpha[i] < 0) (_alpha[i], _alpha[j]) = (0, -diff);
            if (diff > ci - cj)
            {
                if (_alpha[i] > ci) (_alpha[i], _alpha[j]) = (ci, ci - diff);
            }
            else if (_alpha[j] > cj) (_alpha[j], _alpha[i]) = (cj, cj + diff);
        }
        else
        {
            double quad = _q.Diagonal(i) + _q.Diagonal(j) - 2 * qi[j];
            if (quad <= 0) quad = Tau;
            double delta = (_g[i] - _g[j]) / quad, sum = _alpha[i] + _alpha[j];
            _alpha[i] -= delta;
            _alpha[j] += delta;
            if (sum > ci)
            {
                if (_alpha[i] > ci) (_alpha[i], _alpha[j]) = (ci, sum - ci);
            }
            else if (_alpha[j] < 0) (_alpha[j], _alpha[i]) = (0, sum);
            if (sum > cj)
            {
                if (_alpha[j] > cj) (_alpha[j], _alpha[i]) = (cj, sum - cj);
            }
            else if (_alpha[i] < 0) (_alpha[i], _alpha[j]) = (0, sum);
        }
        double dai = _alpha[i] - oldAi, daj = _alpha[j] - oldAj;
        for (int k = 0; k < _activeSize; k++) _g[k] += qi[k] * dai + qj[k] * daj;

        bool ui = IsUpperBound(i), uj = IsUpperBound(j);
        UpdateStatus(i);
        UpdateStatus(j);
        if (ui != IsUpperBound(i)) UpdateGBar(i, ci, ui);
        if (uj != IsUpperBound(j)) UpdateGBar(j, cj, uj);
    }

    private void UpdateGBar(int i, double c, bool wasUpper)
    {
        var column = _q.Column(i, _l);
        double factor = wasUpper ? -c : c;
        for (int k = 0; k < _l; k++) _gBar[k] += factor * column[k];
    }

    // libsvm's select_working_set (WSS 3 of Fan, Chen and Lin): false when already optimal.
    private bool SelectWorkingSet(out int outI, out int outJ)
    {
        double gmax = double.NegativeInfinity, gmax2 = double.NegativeInfinity, objDiffMin = double.PositiveInfinity;
        int gmaxIndex = -1, gminIndex = -1;
        for (int t = 0; t < _activeSize; t++)
        {
            if (_y[t] == 1)
            {
                if (!IsUpperBound(t) && -_g[t] >= gmax) (gmax, gmaxIndex) = (-_g[t], t);
            }
            else if (!IsLowerBound(t) && _g[t] >= gmax) (gmax, gmaxIndex) = (_g[t], t);
        }
        int i = gmaxIndex;
        ReadOnlySpan<float> qi = i != -1 ? _q.Column(i, _activeSize) : default;
        double qdi = i != -1 ? _q.Diagonal(i) : 0;
        for (int j = 0; j < _activeSize; j++)
        {
            if (_y[j] == 1)
            {
                if (IsLowerBound(j)) continue;
                double gradDiff = gmax + _g[j];
                if (_g[j] >= gmax2) gmax2 = _g[j];
                if (gradDiff > 0)
                {
                    double quad = qdi + _q.Diagonal(j) - 2.0 * _y[i] * qi[j];
                    double objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : Tau);
                    if (objDiff <= objDiffMin) (gminIndex, objDiffMin) = (j, objDiff);
                }
            }
            else
            {
                if (IsUpperBound(j)) continue;
                double gradDiff = gmax - _g[j];
                if (-_g[j] >= gmax2) gmax2 = -_g[j];
                if (gradDiff > 0)
                {
                    double quad = qdi + _q.Diagonal(j) + 2.0 * _y[i] * qi[j];
                    double objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : Tau);
                    if (objDiff <= objDiffMin) (gminIndex, objDiffMin) = (j, objDiff);
                }
            }
        }
        (outI, outJ) = (gmaxIndex, gminIndex);
        return !(gmax + gmax2 < _eps || gminIndex == -1);
    }

    private bool BeShrunk(int i, double gmax1, double gmax2)
    {
        if (IsUpperBound(i)) return _y[i] == 1 ? -_g[i] > gmax1 : -_g[i] > gmax2;
        if (IsLowerBound(i)) return _y[i] == 1 ? _g[i] > gmax2 : _g[i] > gmax1;
        return false;
    }

    private void Shrink()
    {
        double gmax1 = double.NegativeInfinity, gmax2 = double.NegativeInfinity; // max −yᵢ∇ᵢf over I_up, max yᵢ∇ᵢf over I_low
        for (int i = 0; i < _activeSize; i++)
        {
            if (_y[i] == 1)
            {
                if (!IsUpperBound(i) && -_g[i] >= gmax1) gmax1 = -_g[i];
                if (!IsLowerBound(i) && _g[i] >= gmax2) gmax2 = _g[i];
            }
            else
            {
                if (!IsUpperBound(i) && -_g[i] >= gmax2) gmax2 = -_g[i];
                if (!IsLowerBound(i) && _g[i] >= gmax1) gmax1 = _g[i];
            }
        }
        if (!_unshrink && gmax1 + gmax2 <= _eps * 10)
        {
            _unshrink = true;
            ReconstructGradient();
            _activeSize = _l;
        }
        for (int i = 0; i < _activeSize; i++)
        {
            if (!BeShrunk(i, gmax1, gmax2)) continue;
            _activeSize--;
            while (_activeSize > i)
            {
                if (!BeShrunk(_activeSize, gmax1, gmax2))
                {
                    SwapIndex(i, _activeSize);
                    break;
                }
                _activeSize--;
            }
        }
    }

    private void SwapIndex(int i, int j)
    {
        _q.Swap(i, j);
        (_y[i], _y[j]) = (_y[j], _y[i]);
        (_g[i], _g[j]) = (_g[j], _g[i]);
        (_status[i], _status[j]) = (_status[j], _status[i]);
        (_alpha[i], _alpha[j]) = (_alpha[j], _alpha[i]);
        (_p[i], _p[j]) = (_p[j], _p[i]);
        (_activeSet[i], _activeSet[j]) = (_activeSet[j], _activeSet[i]);
        (_gBar[i], _gBar[j]) = (_gBar[j], _gBar[i]);
    }

    // Rebuilds G of the inactive variables from Ḡ and the free variables, choosing the cheaper of libsvm's two loops.
    private void ReconstructGradient()
    {
        if (_activeSize == _l) return;
        int free = 0;
        for (int j = _activeSize; j < _l; j++) _g[j] = _gBar[j] + _p[j];
        for (int j = 0; j < _activeSize; j++)
            if (IsFree(j)) free++;
        if ((long)free * _l > 2L * _activeSize * (_l - _activeSize))
        {
            for (int i = _activeSize; i < _l; i++)
            {
                var qi = _q.Column(i, _activeSize);
                for (int j = 0; j < _activeSize; j++)
                    if (IsFree(j)) _g[i] += _alpha[j] * qi[j];
            }
        }
        else
        {
            for (int i = 0; i < _activeSize; i++)
            {
                if (!IsFree(i)) continue;
                var qi = _q.Column(i, _l);
                double ai = _alpha[i];
                for (int j = _activeSize; j < _l; j++) _g[j] += ai * qi[j];
            }
        }
    }

    private double CalculateRho()
    {
        int free = 0;
        double ub = double.PositiveInfinity, lb = double.NegativeInfinity, sumFree = 0;
        for (int i = 0; i < _activeSize; i++)
        {
            double yg = _y[i] * _g[i];
            if (IsLowerBound(i))
            {
                if (_y[i] > 0) ub = Math.Min(ub, yg);
                else lb = Math.Max(lb, yg);
            }
            else if (IsUpperBound(i))
            {
                if (_y[i] < 0) ub = Math.Min(ub, yg);
                else lb = Math.Max(lb, yg);
            }
            else
            {
                free++;
                sumFree += yg;
            }
        }
        return free > 0 ? sumFree / free : (ub + lb) / 2;
    }
}
