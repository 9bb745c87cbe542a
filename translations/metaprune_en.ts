<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>ReportChart</name>
    <message>
        <location filename="../widgets/reportchart.cpp" line="11"/>
        <source>searched (MetaPruning)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="12"/>
        <source>uniform width multiplier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="51"/>
        <source>test top-1 after retraining (%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="60"/>
        <source>%1: searched vs uniform, one seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="61"/>
        <source>%1: searched vs uniform, mean ± sd over %2 seeds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="73"/>
        <source>%1: cannot write the PNG file</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::MainWindow</name>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="67"/>
        <location filename="../widgets/mainwindow.cpp" line="379"/>
        <source>MetaPrune Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="77"/>
        <source>Training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="78"/>
        <source>Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="79"/>
        <source>Reports</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="80"/>
        <source>Structure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="105"/>
        <source>Loading data; checkpoint %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="113"/>
        <source>Training %1 finished.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="114"/>
        <source>Training cancelled; the checkpoint %1 is saved. Train again with the same settings to resume.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="131"/>
        <source>Training failed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="147"/>
        <source>Search run %1 finished.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="148"/>
        <source>Search run %1 cancelled; its candidates are stored. Search again with the same settings to resume.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="180"/>
        <source>Search failed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="215"/>
        <source>Exported %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="226"/>
        <source>Candidate %1 was already retrained with this recipe: %2% test top-1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="230"/>
        <source>Candidate %1 retrained: %2% test top-1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="239"/>
        <source>Comparison finished; the report is stored in the project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="249"/>
        <source>Fidelity over %1 structures: Kendall&apos;s tau %2, Spearman&apos;s rho %3.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="295"/>
        <source>Open or create a project (File menu) to start.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="314"/>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="315"/>
        <source>&amp;Open or New Project...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="316"/>
        <source>Open or create a project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="317"/>
        <source>MetaPrune projects (*.sqlite);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="323"/>
        <source>Open &amp;Recent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="325"/>
        <source>&amp;Export Selected Structure...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="328"/>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="330"/>
        <source>&amp;Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="331"/>
        <source>&amp;Undo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="333"/>
        <source>&amp;Redo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="338"/>
        <source>&amp;Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="339"/>
        <source>&amp;Train PruningNet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="340"/>
        <source>&amp;Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="342"/>
        <source>&amp;Retrain Selected Structure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="343"/>
        <source>Compare with &amp;Uniform Baselines</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="344"/>
        <source>Measure &amp;Fidelity of the PruningNet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="346"/>
        <source>&amp;Cancel Running Jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="348"/>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="349"/>
        <source>&amp;About MetaPrune Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="350"/>
        <source>About MetaPrune Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="351"/>
        <source>MetaPrune Studio: MetaPruning channel pruning (Liu et al., ICCV 2019) made visible.
MACs are conv + linear multiply-accumulates per image (the paper&apos;s FLOPs).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="397"/>
        <source>Finish or cancel the running training or search before opening another project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="410"/>
        <source>%1 - MetaPrune Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="424"/>
        <source>Project %1 opened.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="425"/>
        <source>New project %1: choose the data and press Train.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="449"/>
        <source>Training %1: %2, %3/%4 steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="504"/>
        <source>Loading the PruningNet %1 ...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="524"/>
        <source>table %1 (stored)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="535"/>
        <source>PruningNet loaded: drag a bar to probe a structure, or run a search.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="607"/>
        <source>Open or create a project first (File &gt; Open or New Project).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="611"/>
        <location filename="../widgets/mainwindow.cpp" line="629"/>
        <location filename="../widgets/mainwindow.cpp" line="662"/>
        <source>A training or search is already running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="625"/>
        <source>Train a PruningNet first: the search evaluates structures with its generated weights.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="640"/>
        <source>Searching: MACs in [%1, %2]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="658"/>
        <source>Train a PruningNet first: the latency table is measured for its architecture.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="698"/>
        <source>Train a PruningNet first: retraining reports compare with its predictions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="702"/>
        <source>A training, search or report is already running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="714"/>
        <source>Select a structure on the plot (or probe one) before retraining it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="720"/>
        <source>Loading data to retrain candidate %1...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="736"/>
        <source>Loading data for the comparison...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="756"/>
        <source>Loading data for the fidelity study...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="785"/>
        <source>Nothing to export: train a PruningNet and select a structure first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="788"/>
        <source>TorchScript (*.pt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="788"/>
        <source>ONNX (*.onnx)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="789"/>
        <source>LibTorch tensor archive (*.archive.pt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="791"/>
        <source>Export pruned network</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::ParetoPlot</name>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="38"/>
        <location filename="../widgets/paretoplot.cpp" line="58"/>
        <source>MACs per image (millions; conv + linear multiply-accumulates)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="39"/>
        <source>top-1 on the search split (%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="57"/>
        <source>predicted latency per forward pass (ms, this machine&apos;s latency table)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="71"/>
        <source>Pareto front</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="75"/>
        <source>uniform width multiplier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="80"/>
        <source>selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="83"/>
        <source>compared</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="85"/>
        <source>probe (refining)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="117"/>
        <source>generation %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="229"/>
        <source>%1 (run %2, generation %3)
top-1 %4%
%5 M MACs
%6 params
%7 ms predicted</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::ReportPanel</name>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="20"/>
        <source>&amp;Retrain selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="20"/>
        <source>Compare with &amp;uniform</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="21"/>
        <source>Measure &amp;fidelity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="22"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="25"/>
        <source>from scratch (paper)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="26"/>
        <source>fine-tune generated weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="27"/>
        <source>Retrain with a fresh initialisation, as the paper does, or start from the PruningNet&apos;s generated weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="33"/>
        <source>Each structure of the comparison is retrained once per seed: mean and spread</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="36"/>
        <source>Structures sampled across the MACs range for the fidelity study</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="38"/>
        <source>Retraining</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="39"/>
        <source>Epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="40"/>
        <source>Seeds (compare)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="41"/>
        <source>Structures (fidelity)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="47"/>
        <source>Best searched structure vs uniform width multiplier at 50%, 25% and 12.5% of the full MACs, both retrained with the same recipe and seeds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="49"/>
        <source>Rank correlation between the PruningNet&apos;s predicted top-1 and top-1 after a short retraining</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="105"/>
        <source>%1: %2 of %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="113"/>
        <source>No comparison yet. *Compare with uniform* searches at 50%, 25% and 12.5% of the full MACs (or reuses those searches), then retrains the best searched structure and the uniform baseline of equal-or-higher MACs with the same recipe and seeds.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="131"/>
        <source>Candidate %1 has not been retrained.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="152"/>
        <source>Trust in the ranking: PruningNet top-1 vs retrained top-1 over %1 structures: Kendall&apos;s τ = %2, Spearman&apos;s ρ = %3 (MACs alone: τ = %4, ρ = %5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="139"/>
        <source>fine-tuned</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="137"/>
        <source>%1% test top-1 (%2, %3, seed %4, %5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="139"/>
        <source>from scratch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="140"/>
        <source>1 epoch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="140"/>
        <source>%1 epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="144"/>
        <source>Candidate %1 retrained: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="149"/>
        <source>Trust in the ranking: not measured yet (Reports &gt; Measure fidelity retrains a sample of structures and compares).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::ReportWorker</name>
    <message>
        <location filename="../widgets/workers.cpp" line="118"/>
        <source>Retraining cancelled; nothing was stored.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/workers.cpp" line="139"/>
        <source>Comparison cancelled; the searches and retrainings finished so far are stored and will be reused.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/workers.cpp" line="160"/>
        <source>Fidelity study cancelled; the retrainings finished so far are stored and will be reused.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::SearchPanel</name>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="24"/>
        <source>&amp;Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="25"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="31"/>
        <source>Largest MACs allowed, in percent of the full-width network</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="35"/>
        <source>Smallest MACs allowed (0 = no lower bound): together with the maximum, a band</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="42"/>
        <source>by origin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="42"/>
        <source>by generation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="47"/>
        <source>off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="49"/>
        <source>Largest predicted latency allowed, from this machine&apos;s per-layer latency table</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="50"/>
        <source>predicted latency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="51"/>
        <source>Time every layer at a grid of widths on this machine (a background job); needed for latency constraints and the latency axis</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="57"/>
        <source>Max MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="58"/>
        <source>Min MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="59"/>
        <source>Population</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="60"/>
        <source>Generations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="61"/>
        <source>Seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="62"/>
        <source>Max latency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="63"/>
        <source>Min latency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="64"/>
        <source>Colour points</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="65"/>
        <source>x axis</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="71"/>
        <source>run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="71"/>
        <source>kind</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="93"/>
        <source>Latency table: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="94"/>
        <source>No latency table for this machine yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="100"/>
        <source>Measuring layer latencies: %1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="50"/>
        <location filename="../widgets/searchpanel.cpp" line="71"/>
        <source>MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="23"/>
        <source>Measure latency table</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="71"/>
        <source>status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="71"/>
        <source>points</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::SearchWorker</name>
    <message>
        <location filename="../widgets/workers.cpp" line="81"/>
        <source>Latency measurement cancelled; nothing was stored.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::StructurePanel</name>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="45"/>
        <source>Compare with next clicked point</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="46"/>
        <source>&amp;Export...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="49"/>
        <source>Undo width edit (Ctrl+Z)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="52"/>
        <source>Redo width edit (Ctrl+Shift+Z)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="85"/>
        <source>Select a point on the plot, or drag a bar to edit a structure.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="93"/>
        <source>%1: %2 -&gt; %3 channels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="98"/>
        <location filename="../widgets/structurepanel.cpp" line="116"/>
        <source>Edited structure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="99"/>
        <location filename="../widgets/structurepanel.cpp" line="117"/>
        <source>top-1: probing...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="125"/>
        <source>Candidate %1: %2, run %3, generation %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="139"/>
        <source>%1 M MACs (%2% of full), %3 params</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="146"/>
        <source>top-1: %1% (search split)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="147"/>
        <source>top-1: ~%1% (quick estimate, refining...)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="149"/>
        <source>Probed structure (stored as candidate %1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="156"/>
        <source>Uniform baseline: none evaluated at equal or higher MACs yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="159"/>
        <source>Uniform baseline at %1 M MACs (equal or higher): top-1 %2%  -&gt;  %3%4 points</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="168"/>
        <source>Compared (blue outline): candidate %1, %2 M MACs, top-1 %3%</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::TrainingPanel</name>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="35"/>
        <source>&amp;Train</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="36"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="39"/>
        <source>...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="40"/>
        <source>Choose a data folder: IDX files, CIFAR binary batches, or one folder per class</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="42"/>
        <source>Data folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="51"/>
        <source>MobileNetV2 (stage + mid genes), MobileNetV1 (one gene per conv), ResNet (stage genes shared by the shortcuts, mid genes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="54"/>
        <source>small: sized for 28x28 / 32x32 data (ResNet: ResNet-20); paper: the reference widths (ResNet: ResNet-50)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="63"/>
        <source>Probability of training the full-width network in a step (0 = the reference&apos;s pure random sampling)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="68"/>
        <source>Data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="69"/>
        <source>Format</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="70"/>
        <source>Architecture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="71"/>
        <source>Preset</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="72"/>
        <source>Epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="73"/>
        <source>Batch size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="74"/>
        <source>Learning rate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="75"/>
        <source>Full-width probability</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="76"/>
        <source>Seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="85"/>
        <location filename="../widgets/trainingpanel.cpp" line="91"/>
        <source>loss</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="88"/>
        <source>training top-1 (%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="90"/>
        <source>step</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="92"/>
        <source>top-1 (%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="166"/>
        <source>Epoch %1, step %2/%3, loss %4, training top-1 %5% (random structures), ETA %6</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::WidthEditor</name>
    <message>
        <location filename="../widgets/widtheditor.cpp" line="27"/>
        <source>maximum width</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/widtheditor.cpp" line="31"/>
        <location filename="../widgets/widtheditor.cpp" line="40"/>
        <source>channels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/widtheditor.cpp" line="35"/>
        <source>compared</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/widtheditor.cpp" line="43"/>
        <source>layer (block number + expand / depthwise / project)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
