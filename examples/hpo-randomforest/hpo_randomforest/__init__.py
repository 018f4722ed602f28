"""A complete third-party backend: a scikit-learn random forest for hpo-framework."""

from hpo_framework import Backend, Option, hookimpl


class RandomForestBackend(Backend):
    """Random forest classifier or regressor; its default space tunes size and depth."""

    name = "randomforest"
    options = {"n_jobs": Option(1, int, low=-1, help="trees built in parallel")}

    def default_space(self, dataset):
        return {
            "n_estimators": {"type": "int", "low": 10, "high": 200, "log": True},
            "max_depth": {"type": "int", "low": 2, "high": 20},
            "max_features": {"type": "categorical", "choices": ["sqrt", "log2"]},
        }

    def fit(self, params, x, y, dataset, *, validation=None, report=None):
        # heavy imports inside functions: `hpo-run --help` must not load scikit-learn
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        cls = (RandomForestClassifier if dataset.task == "classification"
               else RandomForestRegressor)
        model = cls(random_state=self.seed, n_jobs=self.config["n_jobs"], **params)
        return model.fit(x.reshape(len(x), -1), y)

    def predict(self, model, x):
        return model.predict(x.reshape(len(x), -1))

    def predict_proba(self, model, x):
        return model.predict_proba(x.reshape(len(x), -1))

    def save(self, model, path):
        import joblib

        joblib.dump(model, path)
        return path


@hookimpl
def register_backends(register):
    register("randomforest", RandomForestBackend, "scikit-learn random forest (example plugin)")
