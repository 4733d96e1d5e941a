"""Baselines, evaluated on the same folds as the model. The tuned RBF SVR is also the
kernel component of the model's p50 (see model.py)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.svm import SVR

from . import features

SVR_GRID = {
    "regressor__C": [0.3, 1.0, 3.0, 10.0],
    "regressor__gamma": [0.01, 0.03, 0.1, 0.3],
    "regressor__epsilon": [0.1, 0.3, 0.5],
}
SVR_INNER_SPLITS = 5
SVR_JOBS = 1  # one process: the machine is shared; libsvm is deterministic either way


def onehot_design(raw: np.ndarray) -> np.ndarray:
    """Design matrix for linear regression: one-hot Type, Category, Month, Weekday, Hour
    (reference level dropped), numeric page likes (in 1e5) and Paid."""
    cols = [raw[:, 0:1] / 1e5, raw[:, 6:7]]
    for j, values in ((1, range(4)), (2, range(1, 4)), (3, range(1, 13)), (4, range(1, 8)),
                      (5, range(24))):
        for v in list(values)[1:]:
            cols.append((raw[:, j:j + 1] == v).astype(float))
    return np.concatenate(cols, axis=1)


def predict_mean(raw_tr, y_tr, raw_te):
    return np.full(len(raw_te), y_tr.mean())


def predict_median(raw_tr, y_tr, raw_te):
    return np.full(len(raw_te), np.median(y_tr))


def predict_linreg(raw_tr, y_tr, raw_te):
    """Ordinary least squares on the one-hot design, raw target."""
    return LinearRegression().fit(onehot_design(raw_tr), y_tr).predict(onehot_design(raw_te))


@dataclass
class SVRModel:
    """A fitted RBF SVR on log1p(target): f(x) = sum_i dual_i exp(-gamma |x - sv_i|^2) + b,
    x = features.encode(raw, likes_mu, likes_sd)."""
    likes_mu: float
    likes_sd: float
    gamma: float
    C: float
    epsilon: float
    support_vectors: np.ndarray   # [S, D]
    dual_coef: np.ndarray         # [S]
    intercept: float
    sklearn_model: object = None

    def predict_log(self, raw: np.ndarray) -> np.ndarray:
        x = features.encode(raw, self.likes_mu, self.likes_sd)
        d2 = ((x[:, None, :] - self.support_vectors[None, :, :]) ** 2).sum(axis=2)
        return np.exp(-self.gamma * d2) @ self.dual_coef + self.intercept


def fit_svr(raw_tr: np.ndarray, y_tr: np.ndarray, seed: int = 0) -> SVRModel:
    """RBF SVR on log1p(target); C, gamma, epsilon chosen by inner 5-fold CV on the
    training rows only, scored by MAE in the data's own units."""
    mu, sd = features.likes_stats(raw_tr)
    Xtr = features.encode(raw_tr, mu, sd)
    est = TransformedTargetRegressor(regressor=SVR(kernel="rbf"), func=np.log1p,
                                     inverse_func=np.expm1, check_inverse=False)
    gs = GridSearchCV(est, SVR_GRID, scoring="neg_mean_absolute_error",
                      cv=KFold(SVR_INNER_SPLITS, shuffle=True, random_state=seed), n_jobs=SVR_JOBS)
    gs.fit(Xtr, y_tr)
    svr = gs.best_estimator_.regressor_
    return SVRModel(mu, sd, float(svr.gamma), float(svr.C), float(svr.epsilon),
                    np.asarray(svr.support_vectors_, dtype=np.float64),
                    np.asarray(svr.dual_coef_[0], dtype=np.float64), float(svr.intercept_[0]),
                    gs.best_estimator_)


def predict_svr_fitted(m: SVRModel, raw_te: np.ndarray) -> np.ndarray:
    return m.sklearn_model.predict(features.encode(raw_te, m.likes_mu, m.likes_sd))


SIMPLE_BASELINES = {
    "mean": predict_mean,
    "median": predict_median,
    "linreg": predict_linreg,
}
