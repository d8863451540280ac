"""Packaging for tenrec-tfx: the Tenrec recommender benchmark as a TFX / Keras stack.

Install through `make install` (or requirements/install.sh), not plain `pip install .`: four
packages of the stack (tfx, ml-pipelines-sdk, ml-metadata, tensorflow-data-validation) must be
installed without dependency resolution, and every other version is fixed by
requirements/constraints.txt. `install_requires` therefore lists only the directly imported
packages that resolve normally.
"""

import setuptools

setuptools.setup(
    name='tenrec-tfx',
    version='0.1.0',
    description=(
        'Tenrec recommender benchmark (CTR, sequential, multi-task and transfer tasks) '
        'as TFX pipelines with TensorFlow/Keras models and TF Serving exports.'),
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.11,<3.12',
    packages=setuptools.find_packages(
        include=['pipeline', 'pipeline.*', 'components', 'components.*', 'models', 'models.*',
                 'serving', 'serving.*']),
    package_data={'': ['*.json', '*.md']},
    install_requires=[
        'absl-py',
        'apache-beam[gcp]',
        'kfp',
        'matplotlib',
        'numpy',
        'pandas',
        'pyarrow',
        'scikit-learn',
        'tensorboard',
        'tensorflow',
        'tensorflow-metadata',
        'tensorflow-model-analysis',
        'tensorflow-model-optimization',
        'tensorflow-recommenders',
        'tensorflow-serving-api',
        'tensorflow-transform',
        'tf-keras',
        'tfx-bsl',
        'tqdm',
    ],
    entry_points={'console_scripts': ['tenrec=pipeline.cli:main']},
    classifiers=[
        'Programming Language :: Python :: 3.11',
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
