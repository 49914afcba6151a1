namespace SharpVision.Classic.Svm;

/// <summary>
/// Platt's sigmoid P(y = +1 | f) = 1 / (1 + exp(A·f + B)) fitted to decision values by Newton's method with
/// backtracking (libsvm's <c>sigmoid_train</c>, after Lin, Lin and Weng's improvement of Platt's algorithm).
/// </summary>
public static class PlattScaling
{
    /// <summary>Fits A and B to decision values <paramref name="decisions"/> with targets +1 / −1 (regularized targets (N₊+1)/(N₊+2),
    /// 1/(N₋+2)).</summary>
    /// <exception cref="ArgumentException">Arrays of different lengths.</exception>
    public static (double A, double B) Fit(ReadOnlySpan<double> decisions, ReadOnlySpan<double> labels)
    {
        if (decisions.Length != labels.Length) throw new ArgumentException("One label per decision value is needed.", nameof(labels));
        int l = decisions.Length;
        double prior1 = 0, prior0 = 0;
        foreach (double y in labels)
            if (y > 0) prior1++;
            else prior0++;
        const int MaxIterations = 100;
        const double MinStep = 1e-10, Sigma = 1e-12, Eps = 1e-5;
        double hiTarget = (prior1 + 1.0) / (prior1 + 2.0), loTarget = 1 / (prior0 + 2.0);
        var t = new double[l];
        double a = 0.0, b = Math.Log((prior0 + 1.0) / (prior1 + 1.0)), fval = 0.0;
        for (int i = 0; i < l; i++)
        {
            t[i] = labels[i] > 0 ? hiTarget : loTarget;
            fval += Loss(decisions[i] * a + b, t[i]);
        }
        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            double h11 = Sigma, h22 = Sigma, h21 = 0, g1 = 0, g2 = 0;
            for (int i = 0; i < l; i++)
            {
                double fApB = decisions[i] * a + b, p, q;
                if (fApB >= 0)
                {
                    p = Math.Exp(-fApB) / (1.0 + Math.Exp(-fApB));
                    q = 1.0 / (1.0 + Math.Exp(-fApB));
                }
                else
                {
                    p = 1.0 / (1.0 + Math.Exp(fApB));
                    q = Math.Exp(fApB) / (1.0 + Math.Exp(fApB));
                }
                double d2 = p * q;
                h11 += decisions[i] * decisions[i] * d2;
                h22 += d2;
                h21 += decisions[i] * d2;
                double d1 = t[i] - p;
                g1 += decisions[i] * d1;
                g2 += d1;
            }
            if (Math.Abs(g1) < Eps && Math.Abs(g2) < Eps) break;
            double det = h11 * h22 - h21 * h21;
            double dA = -(h22 * g1 - h21 * g2) / det, dB = -(-h21 * g1 + h11 * g2) / det, gd = g1 * dA + g2 * dB;
            double step = 1;
            while (step >= MinStep)
            {
                double newA = a + step * dA, newB = b + step * dB, newF = 0;
                for (int i = 0; i < l; i++) newF += Loss(decisions[i] * newA + newB, t[i]);
                if (newF < fval + 0.0001 * step * gd)
                {
                    (a, b, fval) = (newA, newB, newF);
                    break;
                }
                step /= 2.0;
            }
            if (step < MinStep) break; // line search failed
        }
        return (a, b);
    }

    /// <summary>P(y = +1 | f) = 1 / (1 + exp(A·f + B)), computed without overflow.</summary>
    public static double Predict(double decision, double a, double b)
    {
        double fApB = decision * a + b;
        return fApB >= 0 ? Math.Exp(-fApB) / (1.0 + Math.Exp(-fApB)) : 1.0 / (1 + Math.Exp(fApB));
    }

    // The cross-entropy of target t against the sigmoid at fApB, in libsvm's overflow-safe form.
    private static double Loss(double fApB, double t) =>
        fApB >= 0 ? t * fApB + Math.Log(1 + Math.Exp(-fApB)) : (t - 1) * fApB + Math.Log(1 + Math.Exp(fApB));
}

/// <summary>
/// Class probabilities from pairwise probabilities rᵢⱼ ≈ P(i | i or j): Wu, Lin and Weng's method 2
/// (libsvm's <c>multiclass_probability</c>), min_p Σᵢ Σ_{j≠i} (rⱼᵢpᵢ − rᵢⱼpⱼ)² subject to Σ p = 1.
/// </summary>
public static class PairwiseCoupling
{
    /// <summary>Writes the K class probabilities coupled from the K×K pairwise matrix <paramref name="r"/> into <paramref name="p"/>.</summary>
    /// <exception cref="ArgumentException">A non-square matrix or a destination of another length.</exception>
    public static void Couple(double[,] r, Span<double> p)
    {
        ArgumentNullException.ThrowIfNull(r);
        int k = r.GetLength(0);
        if (r.GetLength(1) != k || p.Length != k) throw new ArgumentException("A K×K pairwise matrix and K probabilities are needed.", nameof(r));
        const int MaxIterations = 100;
        double eps = 0.005 / k; // libsvm: max(100, k) iterations and eps = 0.005/k in version 3
        var q = new double[k, k];
        Span<double> qp = stackalloc double[k];
        for (int t = 0; t < k; t++)
        {
            p[t] = 1.0 / k;
            q[t, t] = 0;
            for (int j = 0; j < t; j++)
            {
                q[t, t] += r[j, t] * r[j, t];
                q[t, j] = q[j, t];
            }
            for (int j = t + 1; j < k; j++)
            {
                q[t, t] += r[j, t] * r[j, t];
                q[t, j] = -r[j, t] * r[t, j];
            }
        }
        int limit = Math.Max(MaxIterations, k);
        for (int iteration = 0; iteration < limit; iteration++)
        {
            double pqp = 0;
            for (int t = 0; t < k; t++)
            {
                qp[t] = 0;
                for (int j = 0; j < k; j++) qp[t] += q[t, j] * p[j];
                pqp += p[t] * qp[t];
            }
            double maxError = 0;
            for (int t = 0; t < k; t++) maxError = Math.Max(maxError, Math.Abs(qp[t] - pqp));
            if (maxError < eps) break;
            for (int t = 0; t < k; t++)
            {
                double diff = (-qp[t] + pqp) / q[t, t];
                p[t] += diff;
                pqp = (pqp + diff * (diff * q[t, t] + 2 * qp[t])) / (1 + diff) / (1 + diff);
                for (int j = 0; j < k; j++)
                {
                    qp[j] = (qp[j] + diff * q[t, j]) / (1 + diff);
                    p[j] /= 1 + diff;
                }
            }
        }
    }
}
